"""The provider simulator (`wallet simulate`): plays GitSlotPark or iGamingAce against a callback URL."""
