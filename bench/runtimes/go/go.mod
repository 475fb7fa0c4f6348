module ffibench/go

go 1.19
