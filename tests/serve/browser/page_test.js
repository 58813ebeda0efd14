// Loads the rgrid-serve page in headless Chromium, types a text, submits, waits for the result
// and checks the label, one probability bar per label and the window count; saves a screenshot.
// usage: node page_test.js URL SCREENSHOT.png USER_DATA_DIR
const { chromium } = require("playwright-core");

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
}

(async () => {
  const [url, screenshot, userDataDir] = process.argv.slice(2);
  check(url && screenshot && userDataDir, "usage: node page_test.js URL SCREENSHOT.png USER_DATA_DIR");
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
    viewport: { width: 900, height: 860 },
  });
  const external = [];
  const errors = [];
  try {
    const page = await context.newPage();
    page.on("request", (r) => { if (!r.url().startsWith(url)) external.push(r.url()); });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

    const resp = await page.goto(url, { waitUntil: "networkidle" });
    check(resp.status() === 200, "GET / status " + resp.status());
    await page.waitForFunction(() => !document.getElementById("model").textContent.startsWith("Loading"));
    const info = await (await page.request.get(url + "info")).json();

    // An empty submit shows a helpful message instead of calling the server.
    await page.click("#go");
    await page.waitForSelector("#error:not([hidden])");
    check((await page.textContent("#error")).includes("enter some text"), "empty-text message");

    const text = "Congratulations! You have WON a free cruise. Click the link below to claim your prize " +
                 "before midnight, or reply with your bank details. ".repeat(3) +
                 "Hi Anna, the quarterly report is attached; the meeting moves to Thursday at 3pm. Café? ";
    await page.fill("#text", text);
    await page.click("#go");
    await page.waitForSelector("#result:not([hidden])", { timeout: 30000 });
    await page.waitForTimeout(500);  // let the bar animation finish before the screenshot

    const label = (await page.textContent("#label")).trim();
    check(info.labels.includes(label), `label "${label}" is one of ${info.labels}`);
    const names = await page.$$eval("#bars .name", (els) => els.map((e) => e.textContent));
    check(JSON.stringify(names) === JSON.stringify(info.labels), "one bar per label, in model order: " + names);
    const widths = await page.$$eval("#bars .fill", (els) => els.map((e) => parseFloat(e.style.width)));
    const sum = widths.reduce((a, b) => a + b, 0);
    check(widths.length === info.labels.length && Math.abs(sum - 100) < 0.5, "bar widths sum to 100%: " + widths);
    const best = await page.$eval("#bars .name.best", (e) => e.textContent);
    check(best === label, "the predicted label's bar is highlighted");
    const windows = parseInt(await page.textContent("#windows"), 10);
    check(windows >= 1, "windows used shown: " + windows);

    // The page agrees with the API.
    const api = await (await page.request.post(url + "predict", { data: { text, explain: true } })).json();
    check(api.label === label && api.windows === windows, "page shows what POST /predict returns");

    // A text of several windows gets the window-by-window table: one row per window with its
    // span, an excerpt of the text, and its own label and probability, as the API says.
    check(windows >= 2, "the test text needs several windows: " + windows);
    check(await page.isVisible("#explain"), "window table shown for " + windows + " windows");
    const rows = await page.$$eval("#windows-table tr", (trs) => trs.map((tr) => ({
      span: tr.querySelector(".span").textContent, ex: tr.querySelector(".ex").textContent,
      label: tr.querySelector(".wl").textContent, p: tr.querySelector(".wp").textContent,
      agrees: tr.classList.contains("agrees") })));
    check(rows.length === windows, "one row per window: " + rows.length);
    rows.forEach((r, i) => {
      const w = api.explain[i];
      check(r.span.includes(w.chars[0] + "–" + w.chars[1]), `row ${i} span ${r.span} vs ${w.chars}`);
      check(r.label === w.label && info.labels.includes(r.label), `row ${i} label ${r.label}`);
      check(r.p.startsWith((100 * w.probability).toFixed(1) + "%"), `row ${i} probability ${r.p}`);
      check(r.agrees === (w.label === label), `row ${i} highlighted iff it agrees with the answer`);
      const want = Array.from(text).slice(w.chars[0], w.chars[1]).join("").replace(/\s+/g, " ").trim();
      check(want.startsWith(r.ex.split(" … ")[0]), `row ${i} excerpt is that span of the text: "${r.ex}"`);
    });
    // A short text (one window) hides the table again.
    await page.fill("#text", "Lunch at noon?");
    await page.click("#go");
    await page.waitForFunction(() => document.getElementById("windows").textContent === "1");
    check(!(await page.isVisible("#explain")), "no window table for a one-window text");
    await page.fill("#text", text);
    await page.click("#go");
    await page.waitForSelector("#explain:not([hidden])");
    await page.waitForTimeout(500);

    await page.screenshot({ path: screenshot, fullPage: true });
    check(external.length === 0, "no external requests: " + external.join(", "));
    check(errors.length === 0, "no page errors: " + errors.join(" | "));
    console.log(`browser test passed: label=${label}, windows=${windows}, window rows=${rows.length}, bars=${widths.map((w) => w.toFixed(1)).join("/")}, screenshot ${screenshot}`);
  } finally {
    await context.close();
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
