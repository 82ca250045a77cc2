// `scripts/screenshots`: the same server and Chromium as the end-to-end tests, but the specs in
// ./screenshots write docs/screenshots/*.png (they are pictures for the README, not tests).
import base from './playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: './screenshots' });
