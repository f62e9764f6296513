"""API keys: how another system (a shop's returns platform) calls the API without a browser login."""
