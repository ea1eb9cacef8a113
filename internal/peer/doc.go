// Package peer runs one BitTorrent peer connection: a reader goroutine that
// decodes messages (bounded length, read deadline; piece blocks are read
// straight into pooled buffers, reader.go) and hands them to the owning
// torrent as Events, and a writer goroutine that drains an outbound
// queue, sending each batch with one vectored write under a write deadline,
// and sends keep-alives. On Linux a plain TCP socket is read and written
// with raw system calls inside the runtime poller's callbacks
// (internal/rawio); other connections through their own methods.
//
// Ownership: a Conn's protocol state (choke/interest, requests, bitfields)
// is not kept here; it belongs to the torrent's event loop. Conn only holds
// the socket, the send queue (guarded by a mutex inside Conn) and atomic
// byte counters. Send never blocks: a peer whose queue exceeds its byte
// limit (Config.MaxQueuedBytes, DefaultMaxQueuedBytes) is disconnected as
// too slow.
//
// The reader hands the owner one Event per socket read, carrying every
// message already in memory (Msg, then up to maxBatch-1 in More); the owner
// may give the More slice back with PutBatch. Piece blocks come from the
// process's block pool (internal/blockpool: 16 KiB buffers, at most
// blockpool.Cap idle, its arena mapped at the first block handed out) and
// the owner returns them with PutBlock once it is done with them;
// bitfields and extension payloads are copied out of the reader's scratch
// buffer.
//
// Handshakes (handshake.go, encryption.go): Dial and Accept exchange plain
// BitTorrent handshakes; DialPolicy and AcceptPolicy add message stream
// encryption (package mse) under an Encryption policy. The listener's side
// reads the first 20 bytes to tell a plain handshake from an MSE one. An
// encrypted connection is an mse.Conn, read and written through its own
// methods (the writer hands it whole batches, WriteVec); a plain one, even
// after an MSE handshake that selected plaintext, is the socket itself.
//
// Imports: wire, mse, and the leaves rawio and blockpool. The package must not
// touch the disk or a torrent's state, and must not issue system calls
// itself (they belong to rawio and blockpool).
//
// The last Event a Conn delivers has Err set; after it no further events
// come from that Conn.
package peer
