// Boost.Graph-backed algorithms over the node graph of a function.
#include "ir/graph_algorithms.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>

namespace gradc::ir {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

/// One vertex per node; an edge from a producer node to each user node.
Graph nodeGraph(const Function &f) {
  Graph g(f.nodes().size());
  for (size_t i = 0; i < f.nodes().size(); ++i)
    for (ValueId o : f.nodes()[i].operands) {
      int32_t producer = f.value(o).node;
      if (producer >= 0)
        boost::add_edge(size_t(producer), i, g);
    }
  return g;
}

} // namespace

std::vector<int32_t> topologicalOrder(const Function &f) {
  Graph g = nodeGraph(f);
  std::vector<size_t> reversed;
  boost::topological_sort(g, std::back_inserter(reversed));
  return std::vector<int32_t>(reversed.rbegin(), reversed.rend());
}

std::vector<bool> liveNodes(const Function &f) {
  Graph g = nodeGraph(f);
  auto rg = boost::make_reverse_graph(g);
  std::vector<boost::default_color_type> color(f.nodes().size(), boost::white_color);
  auto cmap = boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, rg));
  for (const Result &r : f.results()) {
    int32_t n = f.value(r.value).node;
    if (n >= 0 && color[size_t(n)] == boost::white_color)
      boost::breadth_first_visit(rg, size_t(n), boost::color_map(cmap));
  }
  std::vector<bool> live(f.nodes().size());
  for (size_t i = 0; i < live.size(); ++i)
    live[i] = color[i] != boost::white_color;
  return live;
}

std::vector<std::vector<int32_t>> valueUsers(const Function &f) {
  std::vector<std::vector<int32_t>> users(f.values().size());
  for (size_t i = 0; i < f.nodes().size(); ++i)
    for (ValueId o : f.nodes()[i].operands)
      if (users[size_t(o)].empty() || users[size_t(o)].back() != int32_t(i))
        users[size_t(o)].push_back(int32_t(i));
  return users;
}

std::vector<int32_t> memoryReaders(const Function &f,
                                   const std::vector<std::vector<int32_t>> &users, ValueId v) {
  std::vector<int32_t> readers;
  std::vector<ValueId> views{v};
  while (!views.empty()) {
    ValueId x = views.back();
    views.pop_back();
    for (int32_t u : users[size_t(x)]) {
      readers.push_back(u);
      if (f.nodes()[size_t(u)].op == OpKind::Reshape)
        views.push_back(f.nodes()[size_t(u)].result);
    }
  }
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  return readers;
}

} // namespace gradc::ir
