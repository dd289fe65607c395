export const MODEL_VERSION = '0.5.0';
