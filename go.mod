module github.com/gobit/gobit

go 1.26
