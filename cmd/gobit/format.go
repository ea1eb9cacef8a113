package main

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
)

// fmtBytes formats a byte count in binary units ("1.5 MiB").
func fmtBytes(n int64) string {
	if n < 0 {
		n = 0
	}
	return humanize.IBytes(uint64(n))
}

// fmtRate formats a transfer rate in bytes per second.
func fmtRate(n int64) string { return fmtBytes(n) + "/s" }

// fmtETA formats an ETA in seconds; negative means unknown.
func fmtETA(sec int64) string {
	if sec < 0 {
		return "-"
	}
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", sec)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", sec/3600, (sec%3600)/60)
	}
	return fmt.Sprintf("%dd%02dh", sec/86400, (sec%86400)/3600)
}

// fmtPercent formats a 0..1 fraction as a percentage with one decimal,
// never showing 100.0% for an incomplete fraction.
func fmtPercent(p float64) string {
	switch {
	case p <= 0:
		return "0.0%"
	case p >= 1:
		return "100%"
	}
	v := p * 100
	if v > 99.9 {
		v = 99.9
	}
	return fmt.Sprintf("%.1f%%", v)
}

// shorten cuts s to at most n runes, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
