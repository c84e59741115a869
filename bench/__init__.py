"""Load benchmarks (DESIGN.md section 6): the seed's 1-vs-3-backend table and the balancer's targets, measured
on loopback with real nginx, Redis and fixed-capacity reference backends. Run with `python -m bench.run`."""
