// Writes services/gateway/assets/world-110m.txt, the country outlines the gateway's choropleth
// (services/gateway/src/web/map.rs) embeds. Run once by hand (see README.md); the output is committed.
//
// Line format, chosen so Rust reads it with `split('\t')` and no XML or JSON parser:
//   # comment
//   viewBox<TAB>0 0 960 H
//   KE<TAB>M...z          one line per country: ISO 3166-1 alpha-2, tab, SVG path data
// Lines are sorted by code, so a rebuild from the same packages is byte-identical.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { feature, merge } from "topojson-client";
import { geoContains, geoEqualEarth, geoPath } from "d3-geo";
import countries from "i18n-iso-countries";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../services/gateway/assets/world-110m.txt");
const WIDTH = 960;

const topology = JSON.parse(
  readFileSync(join(here, "node_modules/world-atlas/countries-110m.json"), "utf8"),
);
const geometries = topology.objects.countries.geometries;
const byName = (name) => geometries.find((g) => g.properties.name === name);

// Natural Earth draws de facto boundaries; the console's maps follow UN maps instead, which the
// disclaimer under every map assumes. Three features have no ISO numeric id: Kosovo gets "XK", the
// code the European Commission, UNHCR and OCHA data use; Somaliland and Northern Cyprus are drawn
// as part of Somalia and Cyprus. Crimea, a polygon of Russia in Natural Earth, is drawn as part of
// Ukraine (UN General Assembly resolution 68/262). Merging removes the border between the parts,
// so a value for SO, CY or UA shades the whole country.
const partOf = { Somaliland: "Somalia", "N. Cyprus": "Cyprus" };
const keyOf = { Kosovo: "XK" };
const moved = [{ from: "Russia", to: "Ukraine", inside: [34.1, 45.0] }]; // a point in Crimea

const extraParts = new Map(); // country name -> TopoJSON geometries to merge into it
for (const [part, whole] of Object.entries(partOf)) {
  extraParts.set(whole, [...(extraParts.get(whole) ?? []), byName(part)]);
}
for (const { from, to, inside } of moved) {
  const source = byName(from);
  const polygons = source.type === "MultiPolygon" ? source.arcs : [source.arcs];
  const hit = polygons.findIndex((arcs) =>
    geoContains(feature(topology, { type: "Polygon", arcs }), inside),
  );
  if (hit < 0) throw new Error(`no polygon of ${from} contains ${inside}`);
  extraParts.set(to, [...(extraParts.get(to) ?? []), { type: "Polygon", arcs: polygons[hit] }]);
  source.type = "MultiPolygon";
  source.arcs = polygons.filter((_, i) => i !== hit);
}

const shapes = new Map(); // alpha-2 -> GeoJSON geometry
for (const g of geometries) {
  const name = g.properties.name;
  if (partOf[name]) continue;
  // Antarctica is left out: no project runs there, and it would take a fifth of the map's height.
  if (name === "Antarctica") continue;
  const code = g.id ? countries.numericToAlpha2(g.id) : keyOf[name];
  if (!code) throw new Error(`no alpha-2 code for ${name} (${g.id})`);
  if (shapes.has(code)) throw new Error(`two features for ${code}`);
  const parts = extraParts.get(name) ?? [];
  shapes.set(code, parts.length ? merge(topology, [g, ...parts]) : feature(topology, g).geometry);
}

const collection = {
  type: "FeatureCollection",
  features: [...shapes.values()].map((geometry) => ({ type: "Feature", geometry })),
};
const projection = geoEqualEarth().fitWidth(WIDTH, collection);
const height = Math.ceil(geoPath(projection).bounds(collection)[1][1]);

// Coordinates are kept in tenths of a unit and written relative to the previous point, which is
// what keeps the file small; a point that rounds onto its predecessor is dropped.
function pathData(geometry) {
  let d = "";
  let ring = [];
  const flush = () => {
    if (ring.length >= 3) {
      let [px, py] = ring[0];
      d += `M${tenths(px)} ${tenths(py)}l`;
      let first = true;
      for (const [x, y] of ring.slice(1)) {
        const dx = tenths(x - px);
        const dy = tenths(y - py);
        d += (first || dx.startsWith("-") ? "" : " ") + dx + (dy.startsWith("-") ? "" : " ") + dy;
        first = false;
        [px, py] = [x, y];
      }
      d += "z";
    }
    ring = [];
  };
  const add = (x, y) => {
    const p = [Math.round(x * 10), Math.round(y * 10)];
    const last = ring[ring.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) ring.push(p);
  };
  geoPath(projection, {
    moveTo(x, y) {
      flush();
      add(x, y);
    },
    lineTo: add,
    closePath: flush,
    arc() {},
  })(geometry);
  flush();
  return d;
}

// An integer count of tenths as the shortest decimal SVG reads: 12 -> "1.2", -5 -> "-.5", 30 -> "3".
function tenths(n) {
  const sign = n < 0 ? "-" : "";
  const a = Math.abs(n);
  const whole = Math.floor(a / 10);
  const frac = a % 10;
  return sign + (frac === 0 ? `${whole}` : `${whole === 0 ? "" : whole}.${frac}`);
}

const lines = [
  "# World countries, Natural Earth 1:110m via world-atlas 2.0.2 (ISC), Equal Earth projection.",
  "# Made by tools/worldmap/build.mjs; do not edit by hand.",
  `viewBox\t0 0 ${WIDTH} ${height}`,
];
for (const code of [...shapes.keys()].sort()) {
  const d = pathData(shapes.get(code));
  if (d) lines.push(`${code}\t${d}`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, lines.join("\n") + "\n");
console.log(`${out}: ${lines.length - 3} countries, viewBox 0 0 ${WIDTH} ${height}`);
