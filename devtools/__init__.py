"""Development tools of a pgmetrics checkout, not part of the installed package: throwaway
PostgreSQL clusters for the tests and benchmarks, and the demo (``pgmetrics demo``)."""
