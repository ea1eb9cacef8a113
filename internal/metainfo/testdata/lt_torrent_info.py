#!/usr/bin/python3
"""Reads torrents as JSON lines on stdin and answers what libtorrent makes
of each, for gobit's differential test (difftest_test.go).

Input line:  {"id": "<case name>", "data": "<base64 of the .torrent bytes>"}
Output line: {"id": ..., "ok": true, "hash": "<v1 info hash hex>",
              "files": <number of files>, "size": <total size>,
              "paths": ["<path>", ...]}
         or  {"id": ..., "ok": false, "error": "<libtorrent's message>"}

One process handles the whole corpus; lines are answered in order.
"""
import base64
import json
import sys

import libtorrent as lt


def answer(data):
    try:
        ti = lt.torrent_info(data)
    except Exception as e:  # libtorrent raises RuntimeError (or others) for a refused torrent
        return {"ok": False, "error": str(e)}
    fs = ti.files()
    paths = []
    for i in range(fs.num_files()):
        try:
            paths.append(fs.file_path(i))
        except Exception:  # a path that is not valid UTF-8 cannot become a str
            paths.append(None)
    return {"ok": True, "hash": str(ti.info_hashes().v1), "files": ti.num_files(),
            "size": ti.total_size(), "paths": paths}


def main():
    for line in sys.stdin:
        req = json.loads(line)
        out = answer(base64.b64decode(req["data"]))
        out["id"] = req["id"]
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
