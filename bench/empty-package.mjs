// Nothing: `bench/instructions.mjs --import` loads this first, by package name, in every count, so
// the loader's one-time set-up is in no module's figure.
export {};
