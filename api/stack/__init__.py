"""The production shape on one machine: the processes `make prod-local` and the fault tests start and stop.

PostgreSQL, Redis and an S3 server (SeaweedFS) as real processes, the API behind one port and its arq workers. No
Docker: each part is a program from this machine or from PyPI, started with its data in a folder of its own.
"""
