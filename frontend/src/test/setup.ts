import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// How long findBy*/waitFor wait for the page to get there: a guard against hanging, never a speed
// assertion. The default (1 s) is less than a first render takes on a loaded 2-core machine.
configure({ asyncUtilTimeout: 30_000 });

afterEach(() => cleanup());
