// Package mse implements BitTorrent message stream encryption (MSE, also
// called protocol encryption, PE): the obfuscated handshake of the Vuze
// (Azureus) specification that most clients speak.
//
// The handshake, with A the side that dialled and B the side that accepted:
//
//	1 A->B: Ya, PadA
//	2 B->A: Yb, PadB
//	3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//	        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//	4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
//	5 A->B: ENCRYPT2(payload)
//
// Ya and Yb are Diffie-Hellman public keys (G = 2 modulo the 768-bit prime
// P, private keys of 160 bits, each sent as 96 bytes big-endian) and S the
// shared secret; SKEY is the torrent's info hash, which B recovers by
// comparing HASH('req2', SKEY) with each of its torrents (Req2). HASH is
// SHA-1. ENCRYPT is RC4 keyed with HASH('keyA', S, SKEY) from A to B and
// HASH('keyB', S, SKEY) from B to A, the first 1024 bytes of each key
// stream discarded; ENCRYPT2 is the method B selected (Plaintext or RC4,
// RC4 continuing the same key stream). VC is eight zero bytes. The pads
// are random, 0 to maxPad bytes, so each side finds its place in the
// other's stream by searching a bounded window: B for HASH('req1', S)
// within the first maxReq1Sync bytes, A for ENCRYPT(VC) within the first
// maxVCSync bytes. IA is A's initial payload: gobit sends its BitTorrent
// handshake there, saving a round trip.
//
// Initiate runs side A and Receiver.Accept side B; both return a Conn, the
// stream after the handshake (RC4 or plain), whose first reads return any
// payload already received. Every length read from the network is bounded
// (pads by maxPad, IA by its 16-bit length) and the caller bounds the time
// with the connection's deadline. The package does no I/O of its own beyond
// the connection it is handed and imports no other gobit package.
package mse
