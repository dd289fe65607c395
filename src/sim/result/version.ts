export const MODEL_VERSION = '0.3.0';
