"""ffibench's driver: one measurement method for every runtime (bench/runtimes/README.md)."""
