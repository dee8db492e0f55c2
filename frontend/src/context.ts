import { createContext, useContext } from "react";
import { defaultConfig, type RuntimeConfig } from "./config";

export const ConfigContext = createContext<RuntimeConfig | null>(null);

/** The runtime config the app was started with. */
export function useRuntimeConfig(): RuntimeConfig {
  return useContext(ConfigContext) ?? defaultConfig();
}
