package dht

import "sync/atomic"

// QueryKinds are the KRPC query methods counted by kind, in the order of
// QueryCounts' arrays; a query with any other method counts as "other".
var QueryKinds = [...]string{"ping", "find_node", "get_peers", "announce_peer", "other"}

// QueryCounts are the queries a node received and sent, by method (the
// index of the method in QueryKinds).
type QueryCounts struct {
	Received, Sent [len(QueryKinds)]int64
}

// queryCounters counts queries by kind with atomic adds.
type queryCounters struct {
	in, out [len(QueryKinds)]atomic.Int64
}

// kindIndex returns method's index in QueryKinds.
func kindIndex(method string) int {
	for i, k := range QueryKinds[:len(QueryKinds)-1] {
		if k == method {
			return i
		}
	}
	return len(QueryKinds) - 1
}

// QueryCounts returns the queries received (past the rate limit) and sent
// since the node started, by method.
func (s *Server) QueryCounts() QueryCounts {
	var c QueryCounts
	for i := range QueryKinds {
		c.Received[i] = s.kinds.in[i].Load()
		c.Sent[i] = s.kinds.out[i].Load()
	}
	return c
}
