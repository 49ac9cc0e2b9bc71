"""The platform's policy pack; the rules are in ``policy.rules``."""
