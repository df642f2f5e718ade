"""Webhooks for integrations from a transactional outbox (issue 8): events written with the change,
posted by a relay, signed, retried, delivered at least once."""
