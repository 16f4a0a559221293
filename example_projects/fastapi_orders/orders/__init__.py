"""An order service: FastAPI routes enqueue asynq task functions that take Pydantic models."""
