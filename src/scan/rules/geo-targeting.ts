import type { Node } from "../ast/walk.js";
import { atInstallTime, type FileRule } from "./rule.js";
import { stringsMatching } from "./signals.js";

const GEO_SERVICE = /ipgeolocation\.io|ip-api\.com|ipapi\.co|ipwho\.is|freegeoip|geolocation-db\.com|api\.2ip\.|ipinfo\.io\/(?:json|country)|country\.is/i;
/** Country codes are matched as written (upper case); a bundle's "ru" is a language tag. */
const TARGET_PLACE = /^(?:RU|BY|ru-RU|be-BY|Europe\/(?:Moscow|Minsk|Kaliningrad|Samara|Volgograd)|Asia\/(?:Yekaterinburg|Novosibirsk|Vladivostok)|[Rr]ussia|RUSSIA|[Bb]elarus|BELARUS|[Rr]ussian [Ff]ederation)$/;
/** The check and the place must sit together: a 10 MB bundle holds every string somewhere. */
const NEAR = 2000;
const DESTRUCTIVE = /^fs(?:\.promises)?\.(?:writeFile|writeFileSync|rm|rmSync|rmdir|rmdirSync|unlink|unlinkSync|truncate|truncateSync)$/;

/**
 * Protestware: code that asks where the machine is (a geolocation service,
 * the time zone or locale) and acts differently for some countries, as
 * node-ipc's peacenotwar payload did before overwriting files.
 */
export const geoTargeting: FileRule = {
  id: "geo-targeting",
  summary: "looks up the machine's country or time zone and targets some countries",
  check(file, report) {
    const ast = file.ast;
    if (!ast) return;
    const places = ast.strings.filter((site) => TARGET_PLACE.test(site.value));
    const near = <T extends { node: Node }>(sites: T[]): T | undefined => sites.find((site) => places.some((place) => Math.abs(startOf(place.node) - startOf(site.node)) < NEAR));
    const service = near(stringsMatching(file, GEO_SERVICE));
    const timeZone = near(ast.calls.filter((call) => /^Intl\.DateTimeFormat$/.test(call.callee)));
    const destructive = near(ast.calls.filter((call) => DESTRUCTIVE.test(call.callee)));
    const place = places[0];
    // Date libraries hold time-zone names and call Intl, so a time-zone check
    // counts only together with file writes or deletes.
    if (place && (service || (timeZone && destructive))) {
      report({
        severity: service && destructive ? "critical" : atInstallTime("high", file.installTime),
        message: `checks the machine's location against specific countries${destructive ? " and writes or deletes files" : ""} (protestware)`,
        node: place.node,
      });
    } else {
      const lookup = stringsMatching(file, GEO_SERVICE)[0];
      if (lookup) report({ severity: "low", message: "asks a geolocation service where this machine is", node: lookup.node });
    }
  },
};

function startOf(node: Node): number {
  return (node as { start?: number }).start ?? 0;
}
