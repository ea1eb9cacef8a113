package session

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gobit/gobit/internal/testutil"
)

// TestListSharedFollowsChanges: ListShared hands out the same Status while
// a torrent's status stays the same, and a new one, with the new values,
// as soon as anything it shows changes: its name, limits, tags, queue
// place, state. List and ListShared always agree.
func TestListSharedFollowsChanges(t *testing.T) {
	s := newTestSession(t)
	ctx := context.Background()
	a, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, "a"), Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, AddRequest{Torrent: makeNamedTorrent(t, "b"), Paused: true}); err != nil {
		t.Fatal(err)
	}
	h := a.InfoHash
	shared := func() *Status {
		t.Helper()
		l, c := s.ListShared(), s.List()
		if len(l) != 2 || len(c) != 2 {
			t.Fatalf("listed %d and %d torrents, want 2", len(l), len(c))
		}
		for i := range l {
			if l[i].InfoHash != c[i].InfoHash || l[i].Name != c[i].Name || l[i].State != c[i].State ||
				l[i].UploadLimit != c[i].UploadLimit || len(l[i].Tags) != len(c[i].Tags) || l[i].QueuePosition != c[i].QueuePosition {
				t.Fatalf("ListShared %+v, List %+v", *l[i], c[i])
			}
		}
		if l[0].InfoHash != h {
			t.Fatalf("first listed %s, want %s", l[0].InfoHash, h)
		}
		return l[0]
	}
	// A paused torrent's status settles (its start publishes a few times).
	var p *Status
	testutil.WaitFor(t, 10*time.Second, "the same status twice", func() bool {
		p = shared()
		return shared() == p
	})
	steps := []struct {
		name   string
		change func() error
		check  func(st *Status) bool
	}{
		{"rename", func() error { n := "renamed"; _, err := s.UpdateTorrent(h, TorrentUpdate{Name: &n}); return err },
			func(st *Status) bool { return st.Name == "renamed" }},
		{"upload limit", func() error {
			l := int64(5000)
			_, err := s.UpdateTorrent(h, TorrentUpdate{UploadLimit: &l})
			return err
		},
			func(st *Status) bool { return st.UploadLimit == 5000 }},
		{"tags", func() error { _, err := s.UpdateTorrent(h, TorrentUpdate{AddTags: []string{"x"}}); return err },
			func(st *Status) bool { return len(st.Tags) == 1 && st.Tags[0] == "x" }},
		{"queue", func() error { return s.MoveInQueue(h, QueueBottom) },
			func(st *Status) bool { return st.QueuePosition == 2 }},
		{"resume", func() error { return s.Resume(h) },
			func(st *Status) bool { return st.State != StatePaused }},
	}
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		var st *Status
		testutil.WaitFor(t, 10*time.Second, step.name+" to show", func() bool {
			for _, x := range s.ListShared() {
				if x.InfoHash == h {
					st = x
				}
			}
			return step.check(st)
		})
		if st == p {
			t.Fatalf("%s: the same Status after the change", step.name)
		}
		if step.check(p) {
			t.Fatalf("%s: the Status handed out before the change was changed", step.name)
		}
		p = st
	}
}

// TestSameStatusCoversEveryField: sameStatus tells two statuses apart by
// any one field, so that a changed torrent never keeps its old Status.
func TestSameStatusCoversEveryField(t *testing.T) {
	base := Status{Tags: []string{"a"}, AddedAt: time.Unix(1000, 0)}
	rt := reflect.TypeFor[Status]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		b := base
		b.Tags = slices.Clone(base.Tags)
		v := reflect.ValueOf(&b).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 7)
		case reflect.Float64:
			v.SetFloat(0.5)
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			v.Set(reflect.ValueOf([]string{"a", "b"}))
		case reflect.Struct: // time.Time
			v.Set(reflect.ValueOf(time.Unix(2000, 0)))
		default:
			t.Fatalf("field %s: kind %s not handled by the test", f.Name, v.Kind())
		}
		if sameStatus(&base, &b) {
			t.Errorf("sameStatus does not compare %s", f.Name)
		}
		if !sameStatus(&b, &b) {
			t.Errorf("a status with %s set differs from itself", f.Name)
		}
	}
}
