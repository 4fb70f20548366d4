"""Personal data on request: a customer's export and erasure, and the audit trail for ops
(API.md "Ops"; DESIGN §7b). Above the domains whose rows it reads."""
