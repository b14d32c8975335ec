// Deterministic pseudo-random numbers for tests that generate tables and traffic.

/** A seeded xorshift32, so that failures reproduce (shared with the bench's tables). */
export { rng } from '../../bench/fulltable';
