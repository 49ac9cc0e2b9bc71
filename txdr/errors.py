class ActivationError(Exception):
    """A check before or after a step of the activation failed; the message says what to do."""
