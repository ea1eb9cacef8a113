"""Drives the Python transmissionrpc library against a Transmission RPC
server (gobit or transmission-daemon); run by python_test.go.

Environment: RPC_HOST, RPC_PORT, RPC_USER, RPC_PASS, TORRENT_FILE,
TORRENT_HASH, TORRENT_NAME, DOWNLOAD_DIR. Prints OK at the end; any failed
check raises."""
import os
import time

import transmissionrpc


def wait(what, cond, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


env = os.environ
c = transmissionrpc.Client(env["RPC_HOST"], port=int(env["RPC_PORT"]),
                           user=env.get("RPC_USER") or None, password=env.get("RPC_PASS") or None,
                           timeout=30)
h, name, ddir = env["TORRENT_HASH"], env["TORRENT_NAME"], env["DOWNLOAD_DIR"]

s = c.get_session()
assert s.download_dir == ddir, s.download_dir
assert c.rpc_version >= 15, c.rpc_version

t = c.add_torrent(env["TORRENT_FILE"], download_dir=ddir)
assert t.hashString == h, t.hashString
wait("seeding", lambda: c.get_torrent(h).progress == 100.0 and c.get_torrent(h).status in ("seeding", "seed pending"))
t = c.get_torrent(h)
assert t.name == name, t.name
assert t.totalSize == int(env["TORRENT_SIZE"]), t.totalSize
files = t.files()
assert len(files) == 2, files
assert sorted(f["name"] for f in files.values()) == sorted([name + "/a.bin", name + "/sub/b.txt"]), files
ids = [x.hashString for x in c.get_torrents()]
assert ids == [h], ids

c.stop_torrent(h)
wait("stopped", lambda: c.get_torrent(h).status == "stopped")
c.start_torrent(h)
wait("running", lambda: c.get_torrent(h).status != "stopped")

c.set_session(speed_limit_down=250, speed_limit_down_enabled=True)
s = c.get_session()
assert s.speed_limit_down == 250 and s.speed_limit_down_enabled, (s.speed_limit_down, s.speed_limit_down_enabled)
c.set_session(speed_limit_down_enabled=False)
assert not c.get_session().speed_limit_down_enabled

st = c.session_stats()
assert st.torrentCount == 1, st.torrentCount

# Rename a file, then the folder holding it.
tid = c.get_torrent(h).id
assert c.rename_torrent_path(tid, name + "/sub/b.txt", "B.txt") == (name + "/sub/b.txt", "B.txt")
assert c.rename_torrent_path(tid, name + "/sub", "Subs") == (name + "/sub", "Subs")
names = sorted(f["name"] for f in c.get_torrent(h).files().values())
assert names == sorted([name + "/a.bin", name + "/Subs/B.txt"]), names
assert os.path.exists(os.path.join(ddir, name, "Subs", "B.txt"))
assert not os.path.exists(os.path.join(ddir, name, "sub"))

c.remove_torrent(h, delete_data=True)
wait("removed", lambda: len(c.get_torrents()) == 0)
wait("data deleted", lambda: not os.path.exists(os.path.join(ddir, name, "a.bin")))
wait("renamed data deleted", lambda: not os.path.exists(os.path.join(ddir, name, "Subs", "B.txt")))
print("OK")
