"""Tally's benchmark harness: runs the same workloads against tally-server and
redis-server in one run and reports Tally/Redis ratios. See bench/README.md."""
