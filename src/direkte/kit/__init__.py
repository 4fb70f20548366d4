"""The HTTP kit every router shares: session and clock dependencies, the error envelope,
idempotent answers and list cursors. Above the kernel, below every domain."""
