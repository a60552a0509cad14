"""What the suites share: the real processes they start (``processes``, ``system``), the
clips they make, the brokers, databases and S3 server they use, and the helpers that talk
to a running system. Tests live beside it, in ``unit/``, ``integration/``, ``browser/``,
``faults/``, ``inputs/``, ``mutants/`` and ``bench/``."""
