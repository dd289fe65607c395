export const MODEL_VERSION = '0.6.0';
