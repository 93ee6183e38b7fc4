import type { Emulator } from '@tim-broadcast/emulator';

/** The text of every text element the emulator delivered, in delivery order (a merged call delivers several). */
export function deliveredTexts(emu: Emulator): string[] {
  return emu.deliveries.flatMap((d) => d.body.MsgBody.flatMap((el) => (el.MsgType === 'TIMTextElem' ? [el.MsgContent.Text] : [])));
}
