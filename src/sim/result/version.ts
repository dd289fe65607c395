export const MODEL_VERSION = '0.1.0';
