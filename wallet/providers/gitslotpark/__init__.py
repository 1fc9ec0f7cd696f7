"""GitSlotPark ("agent" protocol): callbacks, their schemas, and the platform API client."""
