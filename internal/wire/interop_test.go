package wire

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// libtorrentSeed is a Python script that seeds a small generated file with
// libtorrent on 127.0.0.1 and prints "<port> <info hash hex>". It exits when
// its stdin closes.
const libtorrentSeed = `
import libtorrent as lt, os, sys, time
d = sys.argv[1]
with open(os.path.join(d, "payload.bin"), "wb") as f:
    f.write(os.urandom(200000))
fs = lt.file_storage()
lt.add_files(fs, os.path.join(d, "payload.bin"))
ct = lt.create_torrent(fs, 16384)
lt.set_piece_hashes(ct, d)
ti = lt.torrent_info(ct.generate())
s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False})
h = s.add_torrent({"ti": ti, "save_path": d})
for _ in range(400):
    if s.listen_port() and h.status().is_seeding:
        break
    time.sleep(0.05)
print(s.listen_port(), str(ti.info_hashes().v1), flush=True)
sys.stdin.read()
`

// TestLibtorrentInterop speaks to a real libtorrent peer: handshake, the
// extension handshake in both directions, and a ut_metadata request whose
// answer must hash to the info hash.
func TestLibtorrentInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a libtorrent process")
	}
	py := testutil.NeedPythonModule(t, "libtorrent", "python3-libtorrent")
	dir := t.TempDir()
	script := filepath.Join(dir, "seed.py")
	if err := os.WriteFile(script, []byte(libtorrentSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading libtorrent's port: %v", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 2 {
		t.Fatalf("unexpected output %q", line)
	}
	var ours Handshake
	if _, err := hex.Decode(ours.InfoHash[:], []byte(fields[1])); err != nil {
		t.Fatal(err)
	}
	copy(ours.PeerID[:], "-GB0001-wiretest0000")
	ours.SetExtended()
	ours.SetFast()

	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", fields[0]), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	const ourMetadataID = 3
	ext, err := (&ExtendedHandshake{M: map[string]int{ExtMetadata: ourMetadataID}, V: "gobit-wire-test"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := ours.AppendTo(nil)
	m := Message{ID: Extended, ExtendedID: ExtendedHandshakeID, Payload: ext}
	out = m.AppendTo(out)
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}

	r := bufio.NewReader(conn)
	theirs, err := ReadHandshake(r)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.InfoHash != ours.InfoHash || !theirs.SupportsExtended() || !theirs.SupportsFast() {
		t.Fatalf("libtorrent handshake %+v", theirs)
	}

	next := func(want func(Message) bool) Message {
		t.Helper()
		for {
			msg, err := readFrame(r)
			if err != nil {
				t.Fatalf("reading from libtorrent: %v", err)
			}
			if want(msg) {
				return msg
			}
		}
	}
	msg := next(func(m Message) bool { return m.ID == Extended && m.ExtendedID == ExtendedHandshakeID })
	eh, err := ParseExtendedHandshake(msg.Payload)
	if err != nil {
		t.Fatalf("parsing libtorrent's extension handshake %q: %v", msg.Payload, err)
	}
	theirMetadataID, ok := eh.ExtensionID(ExtMetadata)
	if !ok || eh.MetadataSize <= 0 || !strings.Contains(eh.V, "libtorrent") {
		t.Fatalf("libtorrent's extension handshake lacks ut_metadata: %+v", eh)
	}
	t.Logf("libtorrent extension handshake: %+v", eh)

	req := Message{ID: Extended, ExtendedID: theirMetadataID, Payload: MetadataMessage{Type: MetadataRequest, Piece: 0}.Marshal()}
	if _, err := conn.Write(req.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	msg = next(func(m Message) bool { return m.ID == Extended && m.ExtendedID == ourMetadataID })
	mm, err := ParseMetadataMessage(msg.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if mm.Type != MetadataData || mm.Piece != 0 || mm.TotalSize != eh.MetadataSize {
		t.Fatalf("metadata answer %v piece %d total %d", mm.Type, mm.Piece, mm.TotalSize)
	}
	if mm.TotalSize <= MetadataPieceSize && sha1.Sum(mm.Data) != ours.InfoHash {
		t.Error("metadata from libtorrent does not hash to the info hash")
	}
}

// readFrame reads one framed message from r. (Tests elsewhere use
// wiretest.ReadMessage, which imports this package.)
func readFrame(r io.Reader) (Message, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(prefix[:])
	if n > MaxMessageLength {
		return Message{}, ErrMessageTooLarge
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Message{}, err
	}
	return ParseMessage(body)
}
