// Formats: file formats (safetensors, HuggingFace layouts, YAML/JSON configs, PNG/JPEG); filled in by the formats issue.
