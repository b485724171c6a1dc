"""Political-compass instruments, elicitation and scoring."""
