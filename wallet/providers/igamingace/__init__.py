"""iGamingAce ("command" protocol): callbacks with their schemas, and the platform API client."""
