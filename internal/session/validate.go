package session

import (
	"fmt"
	"math"
)

// Bounds of the numeric fields of TorrentUpdate and SettingsUpdate. Values
// outside them are refused with ErrInvalid rather than clamped or wrapped.
const (
	// MaxRateLimit is the largest upload or download limit, in bytes per
	// second (1 TiB/s).
	MaxRateLimit = 1 << 40
	// MaxRatioLimit is the largest seeding ratio limit.
	MaxRatioLimit = 1e6
	// MaxSeedTimeLimit is the largest seeding time limit, in seconds (100
	// years); it keeps the limit well inside time.Duration, which overflows
	// at about 292 years.
	MaxSeedTimeLimit = 100 * 365 * 24 * 60 * 60
	// MaxUploadSlots is the largest number of upload slots of a torrent.
	MaxUploadSlots = 1000
)

// fieldRanges describes, by JSON field name, the values each numeric field
// accepts.
var fieldRanges = map[string]string{
	"upload_limit":         fmt.Sprintf("an integer 0..%d (bytes/s; 0 means unlimited)", int64(MaxRateLimit)),
	"download_limit":       fmt.Sprintf("an integer 0..%d (bytes/s; 0 means unlimited)", int64(MaxRateLimit)),
	"ratio_limit":          fmt.Sprintf("a number 0..%g (0 means no limit)", float64(MaxRatioLimit)),
	"seed_time_limit":      fmt.Sprintf("an integer 0..%d (seconds; 0 means no limit)", int64(MaxSeedTimeLimit)),
	"upload_slots":         fmt.Sprintf("an integer -1..%d (-1 unlimited, 0 the default)", MaxUploadSlots),
	"max_active_downloads": fmt.Sprintf("an integer 0..%d (0 means unlimited)", MaxQueueLimit),
	"max_active_seeds":     fmt.Sprintf("an integer 0..%d (0 means unlimited)", MaxQueueLimit),
	"max_active":           fmt.Sprintf("an integer 0..%d (0 means unlimited)", MaxQueueLimit),
}

// FieldRange describes the values the numeric field of TorrentUpdate or
// SettingsUpdate with JSON name field accepts, for error messages; ok is
// false for any other name.
func FieldRange(field string) (desc string, ok bool) {
	desc, ok = fieldRanges[field]
	return desc, ok
}

// outOfRange returns the ErrInvalid error for a field's bad value.
func outOfRange(field string, v any) error {
	return fmt.Errorf("%w: %s %v is out of range: want %s", ErrInvalid, field, v, fieldRanges[field])
}

func checkInt(field string, v *int64, lo, hi int64) error {
	if v != nil && (*v < lo || *v > hi) {
		return outOfRange(field, *v)
	}
	return nil
}

func checkRatio(v *float64) error {
	if v != nil && (math.IsNaN(*v) || *v < 0 || *v > MaxRatioLimit) {
		return outOfRange("ratio_limit", *v)
	}
	return nil
}

// validateLimits checks the fields shared by both updates, in a fixed order
// so that the same request always names the same field.
func validateLimits(up, down *int64, ratio *float64, seedTime *int64) error {
	if err := checkInt("upload_limit", up, 0, MaxRateLimit); err != nil {
		return err
	}
	if err := checkInt("download_limit", down, 0, MaxRateLimit); err != nil {
		return err
	}
	if err := checkRatio(ratio); err != nil {
		return err
	}
	return checkInt("seed_time_limit", seedTime, 0, MaxSeedTimeLimit)
}

func (u SettingsUpdate) validate() error {
	if err := validateLimits(u.UploadLimit, u.DownloadLimit, u.RatioLimit, u.SeedTimeLimit); err != nil {
		return err
	}
	if err := checkInt("max_active_downloads", u.MaxActiveDownloads, 0, MaxQueueLimit); err != nil {
		return err
	}
	if err := checkInt("max_active_seeds", u.MaxActiveSeeds, 0, MaxQueueLimit); err != nil {
		return err
	}
	return checkInt("max_active", u.MaxActive, 0, MaxQueueLimit)
}

func (u TorrentUpdate) validate() error {
	if err := validateLimits(u.UploadLimit, u.DownloadLimit, u.RatioLimit, u.SeedTimeLimit); err != nil {
		return err
	}
	if u.UploadSlots != nil && (*u.UploadSlots < -1 || *u.UploadSlots > MaxUploadSlots) {
		return outOfRange("upload_slots", *u.UploadSlots)
	}
	if u.Name != nil {
		if err := checkDisplayName(*u.Name); err != nil {
			return err
		}
	}
	return nil
}
