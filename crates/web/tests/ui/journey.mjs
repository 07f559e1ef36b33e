// A scheme officer's day in the web UI, in Debian's Chromium (headless), driven by
// playwright-core: log in, create a family, enrol it, pay, enter and submit a claim, read a
// rejected line's reason, switch to French. Fields are found by their labels, as a screen
// reader finds them. Run by crates/bima/tests/api/browser.rs, which starts Bima and passes:
//   BIMA_URL, BIMA_PASSWORD, BIMA_SAMPLE (JSON: village, facility, item_kind, item, icd,
//   chfid, visit), BIMA_SHOTS (a folder for the screenshots).
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = process.env.BIMA_URL;
const sample = JSON.parse(process.env.BIMA_SAMPLE);
const shots = process.env.BIMA_SHOTS;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.BIMA_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let failed = false;
try {
  const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  const expectText = async (text) => {
    await page.getByText(text, { exact: false }).first().waitFor();
  };

  // Log in: the address asked for comes back after.
  await page.goto(`${base}/`);
  await page.getByLabel("Username").waitFor();
  await shot("01-login");
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(process.env.BIMA_PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  await shot("02-dashboard");

  // A new family, from the menu.
  await page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name: "Families and insurees" }).click();
  await page.getByRole("heading", { name: "Families", level: 1 }).waitFor();
  await shot("03-families");
  await page.getByRole("link", { name: "New family" }).click();
  await page.getByLabel("Village code").fill(sample.village);
  await page.getByLabel("Insurance number").fill(sample.chfid);
  await page.getByLabel("Last name").fill("Browser");
  await page.getByLabel("Other names").fill("Neema");
  await page.getByLabel("Date of birth").fill("1988-06-15");
  await page.getByLabel("Female").check();
  await page.getByLabel("Poor household").check();
  await shot("04-family-new");
  await page.getByRole("button", { name: "Create the family" }).click();
  await expectText("The family was created.");

  // Enrol it and pay: the policy becomes active.
  await page.getByRole("button", { name: "Enrol" }).click();
  await expectText("The family was enrolled.");
  await page.getByLabel("Receipt number").fill("UI-0001");
  await page.getByRole("button", { name: "Record the payment" }).click();
  await expectText("The payment was recorded.");
  await page.locator("dd.policy-status", { hasText: "Active" }).waitFor();
  await shot("05-family-policy");

  // A claim for a visit before the policy started: entered, submitted, its line rejected.
  await page.getByRole("navigation", { name: "Main menu" }).getByRole("link", { name: "Claims" }).click();
  await shot("06-claims");
  await page.getByRole("link", { name: "Enter a claim" }).click();
  await page.getByLabel("Health facility code").fill(sample.facility);
  await page.getByLabel("Patient's insurance number").fill(sample.chfid);
  await page.getByLabel("Claim code").fill("UI-CLAIM-1");
  await page.getByLabel("Visit date").fill(sample.visit);
  await page.getByLabel("Main diagnosis (ICD code)").fill(sample.icd);
  const lines = sample.item_kind === "item" ? "Medical items" : "Medical services";
  await page.getByLabel(`${lines} 1: Code`).fill(sample.item);
  await page.getByLabel(`${lines} 1: Quantity`).fill("1");
  await shot("07-claim-new");
  await page.getByRole("button", { name: "Save the claim" }).click();
  await expectText("The claim was saved.");
  await page.getByRole("button", { name: "Submit for checking" }).click();
  await expectText("The claim was submitted");
  const rejected = page.locator("tr.rejected .reason").first();
  await rejected.waitFor();
  const reason = (await rejected.textContent()).trim();
  if (!reason) throw new Error("a rejected line shows no reason");
  console.log(`rejected line: ${reason}`);
  await shot("08-claim-decided");

  // French, remembered from then on.
  await page.getByRole("link", { name: "Français" }).click();
  await page.locator('html[lang="fr"]').waitFor();
  await expectText("Se déconnecter");
  const motif = (await page.locator("tr.rejected .reason").first().textContent()).trim();
  if (motif === reason) throw new Error(`the reason is not translated: ${motif}`);
  console.log(`motif : ${motif}`);
  await shot("09-claim-decided-fr");
  await page.getByRole("navigation", { name: "Menu principal" }).getByRole("link", { name: "Tableau de bord" }).click();
  await page.getByRole("heading", { name: "Tableau de bord", level: 1 }).waitFor();
  await shot("10-dashboard-fr");

  // The keyboard reaches the content first.
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement.textContent.trim());
  if (first !== "Aller au contenu") throw new Error(`the first stop is ${first}`);

  // A register's record, created through its form by its labels (in French now).
  await page.goto(`${base}/locations/new`);
  await page.getByLabel("Code", { exact: true }).fill("RJ1");
  await page.getByLabel("Nom", { exact: true }).fill("Région du parcours");
  await page.getByLabel("Type", { exact: true }).selectOption("R");
  await shot("11-location-form-fr");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await expectText("Enregistré.");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
