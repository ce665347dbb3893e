"""Pure routing core: who gets which conversation, business hours, SLAs and contact-center metrics."""
