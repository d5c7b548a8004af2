"""CrossGuard policy pack of the platform: the critical security rules at preview time."""
