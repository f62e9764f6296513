"""The customer's side: their return's page behind a secret link, and the public label check."""
