
FINGERPRINT_EXEMPT = "package marker"
