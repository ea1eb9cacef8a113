package session

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestUpdateValidation: each numeric field of TorrentUpdate and
// SettingsUpdate is checked against its range, and a refused value names the
// field and its range. seed_time_limit 18446744074 s overflows time.Duration
// (it once became 290 ms and stopped the torrent at once).
func TestUpdateValidation(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	in := func(v int) *int { return &v }
	tests := []struct {
		field string
		u     TorrentUpdate
		ok    bool
	}{
		{"upload_limit", TorrentUpdate{UploadLimit: i64(0)}, true},
		{"upload_limit", TorrentUpdate{UploadLimit: i64(MaxRateLimit)}, true},
		{"upload_limit", TorrentUpdate{UploadLimit: i64(-1)}, false},
		{"upload_limit", TorrentUpdate{UploadLimit: i64(MaxRateLimit + 1)}, false},
		{"upload_limit", TorrentUpdate{UploadLimit: i64(math.MaxInt64)}, false},
		{"download_limit", TorrentUpdate{DownloadLimit: i64(MaxRateLimit)}, true},
		{"download_limit", TorrentUpdate{DownloadLimit: i64(math.MinInt64)}, false},
		{"download_limit", TorrentUpdate{DownloadLimit: i64(MaxRateLimit + 1)}, false},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(0)}, true},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(MaxRatioLimit)}, true},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(-0.5)}, false},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(math.NaN())}, false},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(math.Inf(1))}, false},
		{"ratio_limit", TorrentUpdate{RatioLimit: f64(MaxRatioLimit * 2)}, false},
		{"seed_time_limit", TorrentUpdate{SeedTimeLimit: i64(MaxSeedTimeLimit)}, true},
		{"seed_time_limit", TorrentUpdate{SeedTimeLimit: i64(18446744074)}, false},
		{"seed_time_limit", TorrentUpdate{SeedTimeLimit: i64(math.MaxInt64/int64(1e9) + 1)}, false},
		{"seed_time_limit", TorrentUpdate{SeedTimeLimit: i64(-1)}, false},
		{"upload_slots", TorrentUpdate{UploadSlots: in(-1)}, true},
		{"upload_slots", TorrentUpdate{UploadSlots: in(MaxUploadSlots)}, true},
		{"upload_slots", TorrentUpdate{UploadSlots: in(-2)}, false},
		{"upload_slots", TorrentUpdate{UploadSlots: in(MaxUploadSlots + 1)}, false},
	}
	for _, tt := range tests {
		errs := map[string]error{"torrent": tt.u.validate()}
		if tt.u.UploadSlots == nil {
			errs["settings"] = SettingsUpdate{
				UploadLimit: tt.u.UploadLimit, DownloadLimit: tt.u.DownloadLimit,
				RatioLimit: tt.u.RatioLimit, SeedTimeLimit: tt.u.SeedTimeLimit,
			}.validate()
		}
		for which, err := range errs {
			if tt.ok {
				if err != nil {
					t.Errorf("%s %+v: %v, want accepted", which, tt.u, err)
				}
				continue
			}
			rng, _ := FieldRange(tt.field)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field) || !strings.Contains(err.Error(), rng) {
				t.Errorf("%s %s: %v, want ErrInvalid naming %s and %q", which, tt.field, err, tt.field, rng)
			}
		}
	}
	if MaxSeedTimeLimit > math.MaxInt64/int64(1e9) {
		t.Fatal("MaxSeedTimeLimit overflows time.Duration")
	}
}
