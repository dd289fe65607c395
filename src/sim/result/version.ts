export const MODEL_VERSION = '0.2.0';
