"""HTTP: one keep-alive session, cancellable exchanges, bounded retries, statuses → typed errors,
stream framing and events, ZIP archives."""
