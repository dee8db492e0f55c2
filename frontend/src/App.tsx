import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router-dom";
import { Layout } from "./components/Layout";
import { JobPage } from "./pages/JobPage";
import { JobsPage } from "./pages/JobsPage";
import { NewJobPage } from "./pages/NewJobPage";
import { ReviewPage } from "./pages/ReviewPage";

const GraphiQLPage = lazy(() => import("./pages/GraphiQLPage"));

function NotFound() {
  return <p>Page not found.</p>;
}

/** Routes people can bookmark. */
export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<JobsPage />} />
        <Route path="jobs/new" element={<NewJobPage />} />
        <Route path="jobs/:id" element={<JobPage />} />
        <Route path="jobs/:id/review" element={<ReviewPage />} />
        <Route
          path="graphiql"
          element={
            <Suspense fallback={<p className="muted">Loading GraphiQL…</p>}>
              <GraphiQLPage />
            </Suspense>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
