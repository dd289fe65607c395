export const MODEL_VERSION = '0.4.0';
