"""An AVX2-only CPU, emulated: a cpuid shim that hides AVX-512, AMX, AVX-VNNI and bfloat16 from a process."""
