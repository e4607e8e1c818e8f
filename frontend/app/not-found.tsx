import { StatePanel } from "@/components/StatePanel";

export default function NotFound() {
  return (
    <StatePanel title="Page not found">
      <p>There is nothing at this address.</p>
    </StatePanel>
  );
}
