package api

import (
	"net/http"

	"github.com/gobit/gobit/internal/session"
)

// QueueBody is the JSON body of POST /api/v1/torrents/{infohash}/queue.
type QueueBody struct {
	// Move is "top", "up", "down" or "bottom".
	Move session.QueueMove `json:"move"`
}

// registerQueue adds the queue routes.
func (h *handler) registerQueue(mux *http.ServeMux, o Organizer) {
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/queue", func(w http.ResponseWriter, r *http.Request) {
		var body QueueBody
		if err := decodeJSONBody(r, &body); err != nil {
			h.fail(w, r, err)
			return
		}
		if body.Move == "" {
			h.fail(w, r, badRequest("missing \"move\": top, up, down or bottom"))
			return
		}
		h.simple(w, r, func(ih string) error { return o.MoveInQueue(ih, body.Move) })
	})
	mux.HandleFunc("POST /api/v1/torrents/{infohash}/force-start", func(w http.ResponseWriter, r *http.Request) {
		h.simple(w, r, o.ForceStart)
	})
}
