"""What a user would write instead of customer-sync's functions: the same vendor and AWS calls with boto3, httpx
and the standard library, nothing else. ``benchmarks/floors.py`` builds each beside the built artifact (its
layer, runtime and interpreter) and runs it under the emulator against the same moto and simulators, as the
floor of the project's function that does the same work.

Each module here is one function's whole source, copied as ``<package>/app.py``; none imports another.
"""
